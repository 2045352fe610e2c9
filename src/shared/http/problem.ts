import { HttpException } from '@nestjs/common';

export interface FieldError {
  path: string;
  message: string;
}

/** RFC 9457 problem details, as every error of the API is answered. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_BASE = 'https://vagen.example/problems/';

export function titleFor(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/**
 * Thrown anywhere (handler, guard, pipe) to answer with a problem document.
 * `type` is a short slug turned into a URI, e.g. `case-not-found`.
 */
export class Problem extends HttpException {
  constructor(
    status: number,
    readonly slug: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail, status);
  }

  static badRequest(detail: string, errors?: FieldError[]): Problem {
    return new Problem(400, 'validation-error', detail, { errors });
  }
  static validation(errors: FieldError[]): Problem {
    return new Problem(400, 'validation-error', `${errors.length} field(s) failed validation`, { errors });
  }
  static notFound(detail = 'The resource does not exist.'): Problem {
    return new Problem(404, 'not-found', detail);
  }
  static conflict(slug: string, detail: string, extra: Record<string, unknown> = {}): Problem {
    return new Problem(409, slug, detail, extra);
  }
  static forbidden(detail = 'Your role does not allow this.'): Problem {
    return new Problem(403, 'forbidden', detail);
  }
  static unauthorized(detail = 'A valid bearer token is required.'): Problem {
    return new Problem(401, 'unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export function toProblemBody(p: Problem, instance: string): ProblemBody {
  const { errors, headers: _headers, ...ext } = p.extra;
  return {
    type: PROBLEM_BASE + p.slug,
    title: titleFor(p.getStatus()),
    status: p.getStatus(),
    detail: p.detail,
    instance,
    ...(errors && errors.length > 0 ? { errors } : {}),
    ...ext,
  };
}
