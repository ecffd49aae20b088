/**
 * The stack of a host, on every cloud: from its host name, so two hosts in one account or project
 * never collide (mirror.example.org -> mirrorfleet-mirror-example-org). CloudFormation stack
 * names and Terraform stack directories both accept it.
 */
export const stackName = (hostname: string) => `mirrorfleet-${hostname.toLowerCase().replace(/\./g, '-')}`;
