/**
 * What the Responses WebSocket capability offers other capabilities (type-only imports): the
 * `responsesWs` service (open sessions, for `headroom_active_ws_sessions`) and the `ws`
 * outcome extension each turn's outcome carries.
 */

export interface ResponsesWsService {
  /** Client WebSocket sessions open now. */
  readonly activeSessions: number;
  /** Sessions whose upstream WebSocket is open now (one relay each, both directions). */
  readonly activeRelays: number;
}

/** Which session and turn an outcome belongs to. */
export interface WsTurnFacts {
  /** The session's id (the request id of its upgrade). */
  session: string;
  /** 1 for the session's first `response.create`, 2 for the next, ...; 0: no turn (refused or failed session). */
  turn: number;
}

declare module '../../core/plugin.js' {
  interface Services {
    responsesWs: ResponsesWsService;
  }
}

declare module '../../core/outcome.js' {
  interface OutcomeExtensions {
    /** Set on outcomes of a Responses WebSocket session (one per `response.create`). */
    ws?: WsTurnFacts;
  }
}
