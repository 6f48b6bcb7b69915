/**
 * The webhook's HTTP surface, shared by the Lambda and the HTTPS server: `POST /validate` answers an
 * AdmissionReview, `POST /mutate` answers it with a digest-pinning patch, `GET /healthz` says the
 * process is up. Both review paths take the cluster's name as a last segment (`/validate/prod-eu`),
 * which the admitted inventory records; a bare path is the default cluster. A denial is an answer (200, allowed: false); a review that cannot be parsed is the caller's error (400, with a message naming what is wrong); a
 * failure of ours is a 500 that says nothing about internals.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { AdmissionService } from '../application/admission-service';
import type { AdmissionRequest, Decision } from '../domain/admission';
import { AdmissionReviewError } from '../domain/errors';
import { clusterNameProblem, DEFAULT_CLUSTER } from '../domain/inventory';
import type { Mutation } from '../domain/pinning';
import { formatAdmissionResponse, formatMutationResponse, parseAdmissionReview } from './admission-review';

export interface HttpRequest {
  readonly method: string;
  /** Path with or without the query string (the apiserver appends `?timeout=10s`). */
  readonly path: string;
  readonly body: string | Buffer | undefined;
}

export interface HttpReply {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An API Gateway proxy event (REST v1 or HTTP API v2) as the request it carries. */
export function toHttpRequest(event: APIGatewayProxyEvent | APIGatewayProxyEventV2): HttpRequest {
  const v2 = 'requestContext' in event && event.requestContext && 'http' in event.requestContext;
  const method = v2
    ? (event as APIGatewayProxyEventV2).requestContext.http.method
    : (event as APIGatewayProxyEvent).httpMethod;
  const path = v2 ? (event as APIGatewayProxyEventV2).rawPath : (event as APIGatewayProxyEvent).path;
  const body = typeof event.body === 'string' ? event.body : '';
  // An event without a method or path (a test invoke, a misrouted integration) gets a 404/405, not a TypeError.
  return {
    method: typeof method === 'string' ? method : '',
    path: typeof path === 'string' ? path : '/',
    body: event.isBase64Encoded ? Buffer.from(body, 'base64') : body,
  };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function reply(statusCode: number, body: unknown): HttpReply {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

/** What the caller may want to know of each request, for logs and metrics (`ms`: time to answer). */
export interface WebhookHooks {
  readonly onReview?: (request: AdmissionRequest) => void;
  readonly onDecision?: (decision: Decision, request: AdmissionRequest, ms: number) => void;
  readonly onMutation?: (mutation: Mutation, request: AdmissionRequest, ms: number) => void;
  readonly onError?: (error: unknown) => void;
}

export interface WebhookOptions {
  /** The cluster of a review posted to a bare path (`serve --cluster`); default `default`. */
  readonly defaultCluster?: string;
}

/** `/validate`, `/mutate`, each optionally followed by `/{cluster}`. */
const REVIEW_PATH = /^\/(validate|mutate)(?:\/([^/]+))?$/;

export async function handleWebhookRequest(
  service: AdmissionService,
  request: HttpRequest,
  hooks: WebhookHooks = {},
  options: WebhookOptions = {},
): Promise<HttpReply> {
  const path = request.path.split('?')[0]?.replace(/\/+$/, '') || '/';
  if (path === '/healthz') {
    return request.method === 'GET' || request.method === 'HEAD'
      ? reply(200, { status: 'ok' })
      : reply(405, { error: 'use GET for /healthz' });
  }
  const route = REVIEW_PATH.exec(path);
  if (!route) {
    return reply(404, {
      error: `no such endpoint: ${path}; use POST /validate or POST /mutate, optionally followed by /CLUSTER`,
    });
  }
  if (request.method !== 'POST') return reply(405, { error: `use POST with an AdmissionReview for ${path}` });
  const cluster = route[2] ?? options.defaultCluster ?? DEFAULT_CLUSTER;
  const problem = clusterNameProblem(cluster);
  if (problem) return reply(400, { error: `${problem} (the last segment of ${route[1]}/CLUSTER)` });

  const started = performance.now();
  try {
    const review = parseAdmissionReview(request.body ?? '');
    hooks.onReview?.(review.request);
    if (route[1] === 'mutate') {
      const mutation = await service.mutate(review.request);
      hooks.onMutation?.(mutation, review.request, performance.now() - started);
      return reply(200, formatMutationResponse(review.apiVersion, review.request.uid, mutation));
    }
    const decision = await service.review(review.request, { cluster });
    hooks.onDecision?.(decision, review.request, performance.now() - started);
    return reply(200, formatAdmissionResponse(review.apiVersion, review.request.uid, decision));
  } catch (error) {
    if (error instanceof AdmissionReviewError) return reply(400, { error: error.message });
    hooks.onError?.(error);
    return reply(500, { error: 'internal error while judging the review' });
  }
}
