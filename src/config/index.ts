export type { KeelConfig, KeelConfigInput, LoadConfigOptions, LoadedConfig } from './config.js';
export { ConfigSchema, configEnvVars, defaultConfigYaml, loadConfig, resolvePath } from './config.js';
