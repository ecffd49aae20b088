/** A systemd unit file a host installs in /etc/systemd/system. */
export interface UnitFile {
  readonly name: string;
  readonly content: string;
  /** Enabled at provisioning (timers and daemons); plain services are started by their timers. */
  readonly enable: boolean;
}
