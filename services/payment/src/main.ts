// The payment process: `node services/payment/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { paymentService } from './service.ts';

await runService(paymentService, readConfig);
