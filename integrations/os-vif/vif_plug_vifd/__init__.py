"""os-vif plugin that hands VIF plugging to vifd.

The plugin translates os-vif's VIF objects into vifd PortBinding documents,
PUTs them to vifd's API and waits until vifd reports the change Ready.
"""

__version__ = "0.1.0"
