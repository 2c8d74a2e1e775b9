/**
 * The wire shapes the translators read and write: the parts of Anthropic Messages and OpenAI
 * Chat Completions that have a counterpart on the other side. Written to be assignable to the
 * official SDKs' request types (checked in test/translate-sdk-types.test.ts).
 */

/** The two wire formats (same names as the routing library's provider formats). */
export type ApiFormat = 'openai' | 'anthropic';

// ---- Anthropic Messages ----
export type AnthImageMediaType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
export interface AnthTextBlock {
  type: 'text';
  text: string;
}
export interface AnthImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: AnthImageMediaType; data: string } | { type: 'url'; url: string };
}
export interface AnthDocumentBlock {
  type: 'document';
  source: { type: 'base64'; media_type: 'application/pdf'; data: string } | { type: 'text'; media_type: 'text/plain'; data: string } | { type: 'url'; url: string };
  title?: string;
}
export interface AnthToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}
export interface AnthToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | (AnthTextBlock | AnthImageBlock)[];
  is_error?: boolean;
}
export type AnthUserBlock = AnthTextBlock | AnthImageBlock | AnthDocumentBlock | AnthToolResultBlock;
export type AnthAssistantBlock = AnthTextBlock | AnthToolUseBlock;
export type AnthMessageParam = { role: 'user'; content: string | AnthUserBlock[] } | { role: 'assistant'; content: string | AnthAssistantBlock[] };
export interface AnthTool {
  name: string;
  description?: string;
  input_schema: { type: 'object'; [k: string]: unknown };
}
export type AnthToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };
export interface AnthRequest {
  model: string;
  max_tokens: number;
  messages: AnthMessageParam[];
  system?: string | AnthTextBlock[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  stream?: boolean;
  tools?: AnthTool[];
  tool_choice?: AnthToolChoice;
  metadata?: { user_id?: string };
}
export type AnthStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';
export interface AnthUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}
export interface AnthMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthAssistantBlock[];
  stop_reason: AnthStopReason | null;
  stop_sequence: string | null;
  usage: AnthUsage;
}

// ---- OpenAI Chat Completions ----
export interface OaiTextPart {
  type: 'text';
  text: string;
}
export interface OaiImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export interface OaiFilePart {
  type: 'file';
  file: { file_data?: string; filename?: string };
}
export type OaiUserPart = OaiTextPart | OaiImagePart | OaiFilePart;
export interface OaiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}
export type OaiMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | OaiUserPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: OaiToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };
export interface OaiTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}
export type OaiToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
export interface OaiRequest {
  model: string;
  messages: OaiMessage[];
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string[];
  temperature?: number;
  top_p?: number;
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  tools?: OaiTool[];
  tool_choice?: OaiToolChoice;
  parallel_tool_calls?: boolean;
  user?: string;
}
export type OaiFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';
export interface OaiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
}
export interface OaiCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: string | null; tool_calls?: OaiToolCall[] };
    finish_reason: OaiFinishReason;
    logprobs: null;
  }[];
  usage?: OaiUsage;
}

/** What a translation could not carry over, for logs and the outcome (field names, never content). */
export interface Translated<T> {
  body: T;
  dropped: string[];
}
