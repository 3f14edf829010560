import { CreateAccountsAndApiKeys1764320000000 } from './1764320000000-CreateAccountsAndApiKeys';
import { CreateUsageAndEntities1764320100000 } from './1764320100000-CreateUsageAndEntities';
import { CreatePropertiesAndRecords1764320200000 } from './1764320200000-CreatePropertiesAndRecords';
import { CreateRelationships1764320300000 } from './1764320300000-CreateRelationships';
import { ApplyQuotaAtCommit1764320400000 } from './1764320400000-ApplyQuotaAtCommit';
import { HotPathFunctions1764320500000 } from './1764320500000-HotPathFunctions';
import { RecordsForOtherModules1764320600000 } from './1764320600000-RecordsForOtherModules';
import { EffectiveLimits1764320700000 } from './1764320700000-EffectiveLimits';
import { RelationshipCreateOnlyInserts1764320800000 } from './1764320800000-RelationshipCreateOnlyInserts';

/** Every migration, oldest first. A new migration is one more line here. */
export const MIGRATIONS = [
  CreateAccountsAndApiKeys1764320000000,
  CreateUsageAndEntities1764320100000,
  CreatePropertiesAndRecords1764320200000,
  CreateRelationships1764320300000,
  ApplyQuotaAtCommit1764320400000,
  HotPathFunctions1764320500000,
  RecordsForOtherModules1764320600000,
  EffectiveLimits1764320700000,
  RelationshipCreateOnlyInserts1764320800000,
];
