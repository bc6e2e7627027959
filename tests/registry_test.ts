import { MemoryPairRegistry } from "../server/registry.ts";
import { registryContract, type RegistryUnderTest } from "./_registry_contract.ts";

/** One process's registry; when the process dies its memory goes, and a restart begins empty. */
function memoryRegistry(): Promise<RegistryUnderTest> {
  return Promise.resolve(Object.assign(new MemoryPairRegistry(), { crash: memoryRegistry }));
}

registryContract("MemoryPairRegistry", memoryRegistry);
