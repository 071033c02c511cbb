/** Sendmux Management API simulator: public surface. */
export { simAccountId, SIM_LOCKED_ID, SIM_SHARED_SES_ID } from './seed.js';
export { DEFAULT_FAULTS } from './faults.js';
export { startSimulator } from './server.js';
export type {
  DeliveryLogItem,
  DeliveryLogStatus,
  ProviderAction,
  ProviderAllowedActions,
  ProviderItem,
  ProviderQuotaRange,
  ProviderQuotas,
  ProviderStatus,
  ProviderType,
  SimDeliveryLogInput,
  SimFaults,
  SimLogEntry,
  SimSettableStatus,
  SimStats,
  SimStep,
  Simulator,
  SimulatorOptions,
} from './types.js';
