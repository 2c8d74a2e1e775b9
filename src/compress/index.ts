/** The compression engine (pure). */
export { compressRequest, FLOOR_CHARS, MAX_SLOT_CHARS, type CcrEntry, type EngineInput, type EngineResult, type ReplayDecision, type ReplayLookup, type SlotReport } from './engine.js';
export { contentHash, HASH_LENGTH, normaliseHash } from './hash.js';
export { findMarkers, formatMarker, hasMarker, RETRIEVE_TOOL_NAME, type FoundMarker } from './markers.js';
export { CompressOptionsError, DEFAULT_SETTINGS, PROFILE_SETTINGS, resolveSettings, SAVINGS_PROFILES, type CompressSettings, type SavingsProfile } from './options.js';
export { detectContent } from './detect.js';
export { routeText, type RouteResult } from './router.js';
export { estimateTokens, tokenCounterFor, warmTokenizers, type TokenCounter } from './tokens.js';
export { contextWindowFor } from './context-window.js';
export { parseQuery } from './lexical.js';
export type { ApiShape } from './request/slots.js';
