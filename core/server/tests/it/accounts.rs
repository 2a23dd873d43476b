use crate::TestApp;
