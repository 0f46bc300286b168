// Runs the benchmarks and writes their reports under bench/results/:
//   node bench/run.ts                      every scenario
//   node bench/run.ts client-overhead      only the named ones
import { writeReport, type Scenario } from './harness/report.ts';
import { checkoutBesideUploads } from './scenarios/checkout-beside-uploads.ts';
import { checkoutPayment } from './scenarios/checkout-payment.ts';
import { checkoutVsBare } from './scenarios/checkout-vs-bare.ts';
import { clientOverhead } from './scenarios/client-overhead.ts';
import { grpcHop } from './scenarios/grpc-hop.ts';
import { libraryInternals } from './scenarios/library-internals.ts';
import { messaging } from './scenarios/messaging.ts';
import { overloadGoodput } from './scenarios/overload-goodput.ts';
import { policyStack } from './scenarios/policy-stack.ts';
import { serviceIdentity } from './scenarios/service-identity.ts';
import { slowUpstream } from './scenarios/slow-upstream.ts';
import { stackFootprint } from './scenarios/stack-footprint.ts';
import { storefront } from './scenarios/storefront.ts';
import { tracingCost } from './scenarios/tracing-cost.ts';

const scenarios: Scenario[] = [clientOverhead, policyStack, slowUpstream, overloadGoodput, grpcHop, messaging, tracingCost, stackFootprint, libraryInternals, serviceIdentity, checkoutVsBare, checkoutPayment, checkoutBesideUploads, storefront];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !scenarios.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
for (const scenario of scenarios.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
  console.log(`running ${scenario.name} ...`);
  const rows = await scenario.run();
  console.log(await writeReport(scenario, rows, `node bench/run.ts ${scenario.name}`));
  if (scenario.summary !== undefined) console.log(scenario.summary(rows));
}
