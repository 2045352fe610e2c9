import type { DynamicModule, Type } from '@nestjs/common';
import { PrivacyModule } from './shared/privacy/privacy.module.js';
import { WebModule } from './web/web.module.js';

/** Every feature slice's Nest module. Each slice registers itself here. */
export const featureModules: (Type | DynamicModule)[] = [PrivacyModule, WebModule];
