#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { loadConfigFile } from '../lib/config/load';

// Until the AWS node construct lands, the app validates the config and synthesizes no stack.
const app = new cdk.App();
const file = app.node.tryGetContext('config') ?? process.env.MIRROR_CONFIG ?? 'examples/xcp-ng.yaml';
loadConfigFile(file);
app.synth();
