export { startConsole, type Console, type ConsoleOptions } from './console-server.ts';
export type { ConsoleLogLine, ConsoleStack } from './console-stack.ts';
