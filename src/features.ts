import type { DynamicModule, Type } from '@nestjs/common';
import { AdminModule } from './admin/admin.module.js';
import { FollowUpModule } from './cases/follow-up.module.js';
import { InsightModule } from './insight/insight.module.js';
import { EventStoreModule } from './shared/event-store/event-store.module.js';
import { PrivacyModule } from './shared/privacy/privacy.module.js';
import { ProjectionsModule } from './shared/projections/projections.module.js';
import { WebModule } from './web/web.module.js';

/** Every feature slice's Nest module. Each slice registers itself here. */
export const featureModules: (Type | DynamicModule)[] = [EventStoreModule, ProjectionsModule, PrivacyModule, WebModule, FollowUpModule, AdminModule, InsightModule];
