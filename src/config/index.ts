export { allFields, type Config, type ConfigKey } from './fields/index.js';
export { ConfigError, configWith, expandHome, loadConfig, type LoadedConfig, type LoadInput, type Source } from './load.js';
export { configTableMarkdown, exampleConfigYaml } from './docs.js';
export { normaliseBaseUrl } from './field.js';
