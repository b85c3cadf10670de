/** The rendered messages and completions of docs/specs/program.md §2 and §4, copied verbatim (JSON strings). */

export const generateSearchQuery = {
  system:
    "Your input fields are:\n1. `question` (str): The multi-hop question to answer\n2. `collected_info` (str): Information collected from previous retrieval steps\nYour output fields are:\n1. `reasoning` (str): \n2. `search_query` (str): Search query for the next retrieval step\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## collected_info ## ]]\n{collected_info}\n\n[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## search_query ## ]]\n{search_query}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Given a multi-hop question and information collected so far, generate a search query\n        to find the next piece of information needed to answer the question.\n        Focus on entities, dates, or facts that need to be resolved step by step.",
  user: "[[ ## question ## ]]\nWho is the spouse of the Green performer?\n\n[[ ## collected_info ## ]]\nGreen (1978) is the fourth studio album by Steve Hillage, so the Green performer is Steve Hillage.\n\nRespond with the corresponding output fields, starting with the field `[[ ## reasoning ## ]]`, then `[[ ## search_query ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.",
  completion:
    "[[ ## reasoning ## ]]\nThe performer of Green is Steve Hillage. Next I need to find who Steve Hillage's spouse is.\n\n[[ ## search_query ## ]]\nSteve Hillage spouse\n\n[[ ## completed ## ]]\n",
};

export const extractInformation = {
  system:
    "Your input fields are:\n1. `question` (str): The multi-hop question to answer\n2. `documents` (str): Retrieved documents from search\nYour output fields are:\n1. `reasoning` (str): \n2. `key_information` (str): Key information extracted from documents\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## documents ## ]]\n{documents}\n\n[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## key_information ## ]]\n{key_information}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Given a question and retrieved documents, extract the key information\n        that helps answer the question or leads to the next retrieval step.\n        Focus on entities, relationships, dates, and facts.",
  user: "[[ ## question ## ]]\nWho is the spouse of the Green performer?\n\n[[ ## documents ## ]]\nDocument ID: 5\n# Green (Steve Hillage album)\nGreen is the fourth studio album by British progressive rock musician Steve Hillage, released in 1978.\n\nDocument ID: 17\n# Steve Hillage\nSteve Hillage is an English guitarist, best known as a member of Gong.\n\nRespond with the corresponding output fields, starting with the field `[[ ## reasoning ## ]]`, then `[[ ## key_information ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.",
  completion:
    "[[ ## reasoning ## ]]\nDocument 5 says Green is an album by Steve Hillage. Neither document names his spouse yet.\n\n[[ ## key_information ## ]]\nGreen (1978) is the fourth studio album by Steve Hillage, so the Green performer is Steve Hillage.\n\n[[ ## completed ## ]]\n",
};

export const generateAnswer = {
  system:
    "Your input fields are:\n1. `question` (str): The multi-hop question to answer\n2. `all_information` (str): All information collected during retrieval\nYour output fields are:\n1. `reasoning` (str): \n2. `answer` (str): Final answer to the question\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## all_information ## ]]\n{all_information}\n\n[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## answer ## ]]\n{answer}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Given a multi-hop question and all collected information, provide a concise answer.\n        The answer should directly address what the question asks for.\n        Be specific and use the exact entities/dates/facts from the documents.",
  user: "[[ ## question ## ]]\nWho is the spouse of the Green performer?\n\n[[ ## all_information ## ]]\nGreen (1978) is the fourth studio album by Steve Hillage, so the Green performer is Steve Hillage.\nMiquette Giraudy is Steve Hillage's partner and musical collaborator.\n\nRespond with the corresponding output fields, starting with the field `[[ ## reasoning ## ]]`, then `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.",
  completion:
    "[[ ## reasoning ## ]]\nGreen was performed by Steve Hillage, whose partner is Miquette Giraudy.\n\n[[ ## answer ## ]]\nMiquette Giraudy\n\n[[ ## completed ## ]]\n",
};

export const decideInfoCollection = {
  system:
    "Your input fields are:\n1. `question` (str): The multi-hop question to answer\n2. `all_information` (str): All information collected during retrieval\nYour output fields are:\n1. `reasoning` (str): \n2. `has_collected_enough_info` (bool): Has enough information been collected to answer question?\nAll interactions will be structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## all_information ## ]]\n{all_information}\n\n[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## has_collected_enough_info ## ]]\n{has_collected_enough_info}        # note: the value you produce must be True or False\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Given the fields `question`, `all_information`, produce the fields `has_collected_enough_info`.",
  user: "[[ ## question ## ]]\nWho is the spouse of the Green performer?\n\n[[ ## all_information ## ]]\nGreen is a 1978 album by Steve Hillage [5]\n\nRespond with the corresponding output fields, starting with the field `[[ ## reasoning ## ]]`, then `[[ ## has_collected_enough_info ## ]]` (must be formatted as a valid Python bool), and then ending with the marker for `[[ ## completed ## ]]`.",
  completion: "[[ ## reasoning ## ]]\nThe spouse of Steve Hillage is still unknown.\n\n[[ ## has_collected_enough_info ## ]]\nFalse\n\n[[ ## completed ## ]]\n",
};
