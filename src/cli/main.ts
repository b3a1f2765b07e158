import { runCli } from './commands.js';

const argv = process.argv.slice(2);
runCli(argv).then(
  (code) => {
    // `start` keeps running until a signal; every other command ends here.
    if (argv[0] !== 'start' || code !== 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(`gatehouse: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
