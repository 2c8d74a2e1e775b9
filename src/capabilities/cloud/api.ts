/**
 * What the cloud capability adds to an outcome: which platform served the request, how it
 * was authenticated upstream, and why its body was left unchanged when it was.
 */
export interface CloudSummary {
  platform: 'bedrock' | 'vertex';
  /** The provider entry's name, or null: none configured (the public endpoint). */
  provider: string | null;
  region: string | null;
  /**
   * `signed`: SigV4 by the proxy; `oauth`: the proxy's Google token; `client`: the client's own
   * credentials passed through (`client-sigv4`: a signature over the body, which therefore
   * cannot be changed).
   */
  auth: 'signed' | 'oauth' | 'client' | 'client-sigv4';
  /** Why compression and CCR were not applied, when the platform's auth forbids it. */
  unmodifiedBecause: string | null;
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    /** Cloud platforms (Bedrock, Vertex): present on their paths. */
    cloud?: CloudSummary;
  }
}
