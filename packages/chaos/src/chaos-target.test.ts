import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callsIn } from './chaos-target.ts';

void test('a service\'s answered calls: HTTP and gRPC series summed, its probes and metrics left out', () => {
  const text = [
    '# HELP http_server_requests_total Inbound HTTP requests answered, by method, route template and status code.',
    '# TYPE http_server_requests_total counter',
    'http_server_requests_total{method="POST",route="/v1/payments",status_code="201"} 12',
    'http_server_requests_total{method="GET",route="/readyz",status_code="200"} 40',
    'http_server_requests_total{method="GET",route="/healthz",status_code="200"} 7',
    'http_server_requests_total{method="GET",route="/metrics",status_code="200"} 3',
    'rpc_server_requests_total{service="baton.payment.v1.PaymentService",method="Authorize",code="ok"} 30',
    'rpc_server_requests_total{service="baton.payment.v1.PaymentService",method="Authorize",code="unavailable"} 2',
    'http_server_request_duration_seconds_count{method="POST",route="/v1/payments"} 12',
  ].join('\n');
  assert.equal(callsIn(text), 44);
});
