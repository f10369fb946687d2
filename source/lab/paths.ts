import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/** The repository root (where configs/, drivers/, devices/ live), found from this file. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const configsDir = path.join(projectRoot, 'configs');
export const driversDir = path.join(projectRoot, 'drivers');
export const devicesDir = path.join(projectRoot, 'devices');

/**
 * An XDG base folder: the variable when it holds an absolute path (the spec says a relative one
 * is to be ignored), else its default under the home folder.
 */
function xdgBase(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
	const value = env[variable];
	return value && path.isAbsolute(value) ? value : path.join(os.homedir(), fallback);
}

/**
 * Where builds, sources and run logs go: $KERNELCRAFT_CACHE, else $XDG_CACHE_HOME/kernelcraft,
 * else ~/.cache/kernelcraft. Everything in it can be deleted; it is rebuilt on demand.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_CACHE) return path.resolve(env.KERNELCRAFT_CACHE);
	return path.join(xdgBase(env, 'XDG_CACHE_HOME', '.cache'), 'kernelcraft');
}

/** Learner progress lives apart from the cache so clearing the cache keeps the ticks. */
export function stateFile(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_STATE) return path.resolve(env.KERNELCRAFT_STATE);
	return path.join(xdgBase(env, 'XDG_STATE_HOME', '.local/state'), 'kernelcraft', 'progress.json');
}

/** Settings a learner or teacher chose once (e.g. the classroom's shared compiler cache). */
export function settingsFile(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_SETTINGS) return path.resolve(env.KERNELCRAFT_SETTINGS);
	return path.join(xdgBase(env, 'XDG_CONFIG_HOME', '.config'), 'kernelcraft', 'settings.json');
}

/**
 * The learner's exercise copies, outside the repository so their work survives updates and
 * clones: $KERNELCRAFT_WORKSPACE, else $XDG_DATA_HOME/kernelcraft/exercises, else
 * ~/.local/share/kernelcraft/exercises. One folder per exercise.
 */
export function workspaceRoot(env: NodeJS.ProcessEnv = process.env): string {
	if (env.KERNELCRAFT_WORKSPACE) return path.resolve(env.KERNELCRAFT_WORKSPACE);
	return path.join(xdgBase(env, 'XDG_DATA_HOME', '.local/share'), 'kernelcraft', 'exercises');
}
