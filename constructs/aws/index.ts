export { MirrorNode, assertDualStack } from './mirror-node';
export type { MirrorNodeProps } from './mirror-node';
export { MirrorNodeStack, stackNameFor } from './mirror-node-stack';
export type { MirrorNodeStackProps } from './mirror-node-stack';
export { NodeAlarms } from './node-alarms';
export { HostFirewall } from './host-firewall';
export { IngressPolicy } from './ingress-policy';
export { NodeRole } from './node-role';
