// Input items the gateway accepts but cannot carry to Claude: the calls and outputs of tools that run
// on OpenAI's side or are OpenAI-defined built-ins (their tools are ignored too, see tools.ts). They
// are left out of the history, as the README says; any item type not named here or typed in
// schema.ts is a 400.
export const IGNORED_ITEM_TYPES = new Set([
  'web_search_call',
  'file_search_call',
  'code_interpreter_call',
  'image_generation_call',
  'computer_call',
  'computer_call_output',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'mcp_call',
  'tool_search_call',
  'tool_search_output',
  'additional_tools',
  'compaction',
  'compaction_trigger',
  'program',
  'program_output',
]);
