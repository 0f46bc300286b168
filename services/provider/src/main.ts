// The payment provider's process: `node services/provider/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { providerService } from './service.ts';

await runService(providerService, readConfig);
