export { targetOf, type ChaosTarget, type DeadLetter, type RunnerHandle, type StackHandle } from './chaos-target.ts';
export { checkLedger, type LedgerCheck } from './ledger.ts';
export { outcomeOf, outcomes, type Outcome, type RequestKind, type RequestRecord } from './outcome.ts';
export { defaultDeadlinesMs, runScenario, type Phase, type RunOptions, type ScenarioReport } from './run-scenario.ts';
export { onlyOnTheChaosShop, scenarioNamed, scenarios, type Scenario } from './scenarios.ts';
export { startShopperLoad, type ShopperLoad, type ShopperLoadOptions } from './shopper-load.ts';
export { judge, percentile, type Check, type Verdict } from './verdict.ts';
export { checkShopLedger, type ProviderCharge, type SeenOrder, type ShopState } from './shop-ledger.ts';
export { hostScenarios, type HostScenario } from './host-scenarios.ts';
