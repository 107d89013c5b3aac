// What a feature plugin gets from buildApp: the database, the token store its routes
// authorise with, and the configured environments. Plugins needing more declare it themselves.

import type { Pool } from '../core/db';
import type { TokenStore } from '../tokens/store';

export interface FeatureDeps {
  pool: Pool;
  tokens: TokenStore;
  environments: readonly string[];
}
