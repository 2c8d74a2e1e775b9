/**
 * Translation between Anthropic Messages and OpenAI Chat Completions: requests, responses,
 * streams (incremental, both ways), usage with cache fields, stop/finish reasons and errors.
 * A library: pure functions and small state machines, no I/O, no App.
 */
export * from './types.js';
export { TOOL_ERROR_PREFIX, TranslationError, parseArguments } from './util.js';
export { type OpenAIRequestTranslation, type ToOpenAIOptions, anthropicToOpenAIRequest, wantsMaxCompletionTokens } from './request-to-openai.js';
export { type ToolNameMap, ToolNames, restoreName } from './tool-names.js';
export { DEFAULT_MAX_TOKENS, type ToAnthropicOptions, openAIToAnthropicRequest } from './request-to-anthropic.js';
export { type ResponseOptions, anthropicToOpenAIResponse, openAIToAnthropicResponse } from './response.js';
export { anthropicUsageToOpenAI, finishToStopReason, openAIUsageToAnthropic, stopReasonToFinish } from './usage.js';
export {
  type ErrorReply,
  type UpstreamError,
  anthropicErrorBody,
  anthropicErrorType,
  openAIErrorBody,
  openAIErrorType,
  parseUpstreamError,
  streamErrorFrame,
  translateError,
} from './errors.js';
export { OpenAIToAnthropicStream, type StreamToAnthropicOptions, type StreamTranslationFacts } from './stream-to-anthropic.js';
export { AnthropicToOpenAIStream, type StreamToOpenAIFacts, type StreamToOpenAIOptions } from './stream-to-openai.js';
