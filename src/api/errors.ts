// The one error shape of the API (CONTRACT §2): {"error":{"code","message"}}.
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const errors = {
  unauthorized: () => new ApiError(401, 'unauthorized', 'A valid bearer token is required.'),
  forbidden: (message = 'You are not allowed to do this.') => new ApiError(403, 'forbidden', message),
  notFound: (what = 'resource') => new ApiError(404, 'not_found', `No such ${what}.`),
  invalidJson: () => new ApiError(400, 'invalid_json', 'The request body is not valid JSON.'),
  invalidRequest: (message: string) => new ApiError(400, 'invalid_request', message),
  payloadTooLarge: (limit: number) => new ApiError(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`),
};
