"""What the device itself can tell, behind small facades in the plyer style.

Each facade is a public function that picks a private implementation for the running platform
and answers None when the platform does not say. No Kivy here: the sync worker uses it too.
"""

from kiosk.platform.battery import battery_percent

__all__ = ["battery_percent"]
