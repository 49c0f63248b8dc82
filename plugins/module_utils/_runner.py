# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moved to ``_common/runner.py``; kept while the areas move into ``_areas/`` (issue 17)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.runner import (  # noqa: F401
    C_LOCALE,
    EXTRA_PATHS,
    ToolError,
    ToolResult,
    find_tool,
    run,
)
