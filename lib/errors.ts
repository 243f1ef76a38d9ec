// One error type and one envelope: { "error": { "code", "message" } }.

export type ErrorCode =
  | "invalid_json"
  | "invalid_body"
  | "invalid_batch"
  | "invalid_query"
  | "invalid_import"
  | "invalid_url"
  | "bad_request"
  | "method_not_allowed"
  | "uri_too_long"
  | "headers_too_large"
  | "expectation_failed"
  | "request_timeout"
  | "unsupported_media_type"
  | "unauthorized"
  | "unauthenticated"
  | "too_many_requests"
  | "forbidden"
  | "cross_origin"
  | "unknown_host"
  | "not_found"
  | "share_expired"
  | "run_deleted"
  | "conflict"
  | "last_admin"
  | "sweep_conflict"
  | "sweep_complete"
  | "too_few_trials"
  | "account_disabled"
  | "password_change_required"
  | "payload_too_large"
  | "invalid_space"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_body: 400,
  invalid_batch: 400,
  invalid_query: 400,
  invalid_import: 400,
  invalid_url: 400,
  bad_request: 400,
  method_not_allowed: 405,
  uri_too_long: 414,
  headers_too_large: 431,
  expectation_failed: 417,
  request_timeout: 408,
  unsupported_media_type: 415,
  unauthorized: 401,
  unauthenticated: 401,
  too_many_requests: 429,
  forbidden: 403,
  cross_origin: 403,
  unknown_host: 421,
  not_found: 404,
  share_expired: 410,
  run_deleted: 410,
  conflict: 409,
  last_admin: 409,
  sweep_conflict: 409,
  sweep_complete: 409,
  too_few_trials: 409,
  account_disabled: 403,
  password_change_required: 403,
  payload_too_large: 413,
  invalid_space: 400,
  internal: 500,
};

/** True for one of the codes above (a code read back from an answer's body). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(STATUS, code);
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}
