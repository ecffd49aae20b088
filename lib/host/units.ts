/** A systemd unit file a host installs in /etc/systemd/system. */
export interface UnitFile {
  readonly name: string;
  readonly content: string;
  /** Enabled at provisioning (timers and daemons); plain services are started by their timers. */
  readonly enable: boolean;
}

/** A timer that starts its service a minute after boot and a minute after each run. */
export function everyMinuteTimer(name: string, description: string): UnitFile {
  return {
    name,
    enable: true,
    content: `[Unit]
Description=${description}

[Timer]
OnBootSec=1min
OnUnitActiveSec=1min
AccuracySec=5s

[Install]
WantedBy=timers.target
`,
  };
}
