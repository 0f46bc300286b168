// The inventory process: `node services/inventory/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { inventoryService } from './service.ts';

await runService(inventoryService, readConfig);
