import { Aspects, IAspect } from 'cdktf';
import { IConstruct } from 'constructs';
import { FirewallMatchesIngress } from './firewall-ingress';
import { ServersHaveIpv6 } from './server-ipv6';
import { VolumesAreProtected } from './volume-protection';

export { FirewallMatchesIngress, registerIngressTable } from './firewall-ingress';
export { ServersHaveIpv6 } from './server-ipv6';
export { VolumesAreProtected } from './volume-protection';

/**
 * mirrorfleet's own policies for Hetzner stacks (cdk-nag does not apply to cdktf). They report
 * through Annotations.addError: `app.synth()` then throws, and `cdktf synth` prints the errors
 * and exits 1 (it sets CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS and fails on them itself).
 */
export function mirrorPolicies(): IAspect[] {
  return [new FirewallMatchesIngress(), new VolumesAreProtected(), new ServersHaveIpv6()];
}

export function applyMirrorPolicies(scope: IConstruct): void {
  for (const aspect of mirrorPolicies()) Aspects.of(scope).add(aspect);
}
