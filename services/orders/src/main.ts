// The orders process: `node services/orders/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { ordersService } from './service.ts';

await runService(ordersService, readConfig);
