// The cluster's vocabulary: nodes, IP resources and their states. The types are defined once, in the
// contract shared with the console (preload/contract/domain.ts, which the sandboxed renderer compiles
// against too and therefore may not import main/); the engine uses them from here. Validation lives in
// validate.ts, placement decisions in placement.ts.
export type {
  ConflictRecord,
  FailbackPolicy,
  FailureReason,
  NodeName,
  NodeRecord,
  NodeState,
  ResourceName,
  ResourceSpec,
  ResourceState,
  ResourceStatus,
} from '../../preload/contract/domain';
