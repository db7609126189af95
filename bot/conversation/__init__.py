"""The conversation engine: a member's message through the flows, their effects performed by the areas, the replies rendered."""
