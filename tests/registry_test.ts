import { MemoryPairRegistry } from "../server/registry.ts";
import { registryContract } from "./_registry_contract.ts";

registryContract("MemoryPairRegistry", () => Promise.resolve(new MemoryPairRegistry()));
