#!/usr/bin/env node
// Entry point: the bundled CLI (npm run build writes dist/vifd.mjs).
import { main } from '../dist/vifd.mjs';

process.exitCode = await main(process.argv.slice(2));
