import { IConstruct } from 'constructs';
import { TerraformResource, TerraformStack } from 'cdktf';

/**
 * The body a resource synthesizes to (arguments, blocks, lifecycle, overrides included), with
 * every token resolved: what the policies judge is exactly what Terraform will read.
 */
export function synthesizedBody(node: IConstruct, type: string): Record<string, any> | undefined {
  if (!(node instanceof TerraformResource) || node.terraformResourceType !== type) return undefined;
  const stack = TerraformStack.of(node).toTerraform();
  return stack.resource?.[type]?.[node.friendlyUniqueId] as Record<string, any> | undefined;
}
