// The notifications process: `node services/notifications/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { notificationsService } from './service.ts';

await runService(notificationsService, readConfig);
