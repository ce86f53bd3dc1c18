"""The placeholder app of the ADK reference server: loaded, never run (no model call, no credentials)."""

from google.adk.agents import Agent

root_agent = Agent(name="dummy_agent", model="gemini-2.0-flash", instruction="Placeholder agent; never run.")
