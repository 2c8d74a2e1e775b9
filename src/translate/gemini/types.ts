/** The parts of the Gemini API (`generateContent`) the translators read and write. */

export interface GemInlineData {
  mimeType: string;
  data: string;
}
export interface GemFunctionCall {
  name: string;
  args?: Record<string, unknown>;
  id?: string;
}
export interface GemFunctionResponse {
  name: string;
  response: Record<string, unknown>;
  id?: string;
}
export type GemPart =
  | { text: string; thought?: boolean; thoughtSignature?: string }
  | { inlineData: GemInlineData }
  | { fileData: { mimeType?: string; fileUri: string } }
  | { functionCall: GemFunctionCall; thoughtSignature?: string }
  | { functionResponse: GemFunctionResponse };
export interface GemContent {
  role: 'user' | 'model';
  parts: GemPart[];
}
export interface GemFunctionDeclaration {
  name: string;
  description?: string;
  /** JSON Schema as the client wrote it (Gemini's `parametersJsonSchema` accepts full JSON Schema). */
  parametersJsonSchema?: Record<string, unknown>;
}
export interface GemGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseJsonSchema?: unknown;
}
export interface GemRequest {
  contents: GemContent[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations: GemFunctionDeclaration[] }[];
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: GemGenerationConfig;
}
export interface GemUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}
