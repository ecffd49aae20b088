import { Annotations, IAspect } from 'cdktf';
import { IConstruct } from 'constructs';
import { synthesizedBody } from './synthesized';

/**
 * Policy 2 (N20): every volume is protected twice. delete_protection makes Hetzner refuse the
 * deletion from any client (console, hcloud CLI, another Terraform); lifecycle.prevent_destroy
 * makes Terraform refuse, at plan time, any plan that would destroy or replace it.
 */
export class VolumesAreProtected implements IAspect {
  visit(node: IConstruct): void {
    const body = synthesizedBody(node, 'hcloud_volume');
    if (!body) return;
    if (body.delete_protection !== true) {
      Annotations.of(node).addError('mirrorfleet policy: volume without delete_protection = true; Hetzner would let anyone delete the mirror data (N20)');
    }
    if (body.lifecycle?.prevent_destroy !== true) {
      Annotations.of(node).addError('mirrorfleet policy: volume without lifecycle.prevent_destroy = true; a plan could destroy or replace the mirror data (N20)');
    }
  }
}
