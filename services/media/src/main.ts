// The media process: `node services/media/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { mediaService } from './service.ts';

await runService(mediaService, readConfig);
