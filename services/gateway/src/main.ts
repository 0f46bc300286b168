// The gateway process: `node services/gateway/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { gatewayService } from './service.ts';

await runService(gatewayService, readConfig);
