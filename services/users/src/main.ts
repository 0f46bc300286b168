// The users process: `node services/users/src/main.ts`. Everything else lives in service.ts.
import { runService } from '@baton/kit/service';
import { readConfig } from './config.ts';
import { usersService } from './service.ts';

await runService(usersService, readConfig);
