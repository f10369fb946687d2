import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/** The repository root (where configs/, drivers/, devices/ live), found from this file. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const configsDir = path.join(projectRoot, 'configs');
export const driversDir = path.join(projectRoot, 'drivers');
export const devicesDir = path.join(projectRoot, 'devices');

/**
 * Where builds, sources and run logs go: $KERNELCRAFT_CACHE, else $XDG_CACHE_HOME/kernelcraft,
 * else ~/.cache/kernelcraft. Everything in it can be deleted; it is rebuilt on demand.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_CACHE) return path.resolve(env.KERNELCRAFT_CACHE);
	const xdg =
		env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
	return path.join(xdg, 'kernelcraft');
}

/** Learner progress lives apart from the cache so clearing the cache keeps the ticks. */
export function stateFile(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_STATE) return path.resolve(env.KERNELCRAFT_STATE);
	const xdg =
		env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
			? env.XDG_STATE_HOME
			: path.join(os.homedir(), '.local', 'state');
	return path.join(xdg, 'kernelcraft', 'progress.json');
}

/** Settings a learner or teacher chose once (e.g. the classroom's shared compiler cache). */
export function settingsFile(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_SETTINGS) return path.resolve(env.KERNELCRAFT_SETTINGS);
	const xdg =
		env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
			? env.XDG_CONFIG_HOME
			: path.join(os.homedir(), '.config');
	return path.join(xdg, 'kernelcraft', 'settings.json');
}

/**
 * The learner's exercise copies, outside the repository so their work survives updates and
 * clones: $KERNELCRAFT_WORKSPACE, else $XDG_DATA_HOME/kernelcraft/exercises, else
 * ~/.local/share/kernelcraft/exercises. One folder per exercise.
 */
export function workspaceRoot(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_WORKSPACE) return path.resolve(env.KERNELCRAFT_WORKSPACE);
	const xdg =
		env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)
			? env.XDG_DATA_HOME
			: path.join(os.homedir(), '.local', 'share');
	return path.join(xdg, 'kernelcraft', 'exercises');
}
