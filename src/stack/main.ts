// `npm run stack [-- --scale worker=3] [--profile indexing]`: docker-compose.yml's topology as
// processes on this machine (see stack.ts), until Ctrl-C. State in STACK_DIR (default .stack/).
import path from 'node:path';
import { runDevCommand, say } from '../dev/command';
import { projectRoot } from '../dev/project-root';
import { Stack } from './stack';

function parseArgs(args: string[]): { scale: Record<string, number>; profiles: string[] } {
  const scale: Record<string, number> = {};
  const profiles: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s);
    const value = inline ?? args[++i];
    if (flag === '--scale' && /^[\w-]+=\d+$/.test(value ?? '')) {
      const [name, n] = value.split('=');
      scale[name] = Number(n);
    } else if (flag === '--profile' && value) profiles.push(value);
    else throw new Error(`unknown argument ${args[i]}: use --scale SERVICE=N or --profile NAME`);
  }
  return { scale, profiles };
}

runDevCommand('the stack', async (shutdown) => {
  const root = projectRoot();
  const { scale, profiles } = parseArgs(process.argv.slice(2));
  const stackDir = path.resolve(process.env.STACK_DIR || path.join(root, '.stack'));
  const stack = await Stack.start({ root, env: { ...process.env }, stackDir, scale, profiles, say });
  shutdown.add(() => stack.stop());
  say('');
  say('The compose stack is running as processes.');
  say(`  API:       ${stack.apiUrl}`);
  say(`  Admin token: ${stack.adminTokenSource.startsWith('/') ? `in ${stack.adminTokenSource}` : `from ${stack.adminTokenSource} (the environment or .env)`}`);
  say(`  Processes: ${stack.pids().map((p) => `${p.name} (${p.pid})`).join(', ')}`);
  say(`  Logs:      ${path.join(stackDir, 'logs')}`);
  say('Press Ctrl-C to stop (volumes stay in the stack folder, as with docker compose down).');
});
