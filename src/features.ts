import type { DynamicModule, Type } from '@nestjs/common';

/** Every feature slice's Nest module. Each slice registers itself here. */
export const featureModules: (Type | DynamicModule)[] = [];
